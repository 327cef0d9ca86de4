"""The service layer: every query and every write, with its permission check."""
