"""Claims intake: the Ministry of Health XML standard (QĐ 130 as amended by QĐ 4750)."""
