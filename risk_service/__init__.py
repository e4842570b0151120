"""Risk service: pre-trade validation, risk scores, effective limits and kill switches."""
