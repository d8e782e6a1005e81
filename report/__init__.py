"""Weekly leak-cost report: one mail per customer (`finemeca report weekly`)."""
