"""The registry: people, households, participation in a group over time, cards, registered
facilities and facilities; the card check at the counter; contributions due and the monthly
increase/decrease lists."""
