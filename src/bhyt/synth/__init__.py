"""The synthetic nation: people, cards, facilities, catalogues, priced episodes and labelled abuse,
calibrated to the public figures (``bhyt synth``)."""
