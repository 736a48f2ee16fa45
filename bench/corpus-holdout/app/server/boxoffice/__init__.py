"""Box office: ticketing for a small concert venue."""
