"""HTML reports (single files that open offline): the assessment run's and the detection run's, over
one chart module (Vega-Lite through Altair). An adapter: the commands that write reports import it."""
