"""The 督查督办 rules: roles, items, deadlines, what the main process means."""
