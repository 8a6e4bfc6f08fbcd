"""Invoices and credit notes for paid orders: gap-free numbers, VAT, a PDF, the quarter's
revenue for the bookkeeper."""
