"""Orders: customers, order numbers, lines with customisations, the status flow and designs."""
