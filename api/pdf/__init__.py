"""What Kern's PDFs share (invoices, credit notes, certificates)."""
