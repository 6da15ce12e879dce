"""What takes alerts to people: the pager dispatcher and the ward dashboard."""
