"""English dates as they are read in Sweden: ISO 8601 when short (2026-12-06), day first with
the month's name when long (6 Dec 2026), a 24-hour clock (Django's English default is American:
12/06/2026 and "Dec. 6, 2026, 2:31 a.m.")."""

DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
FIRST_DAY_OF_WEEK = 1  # Monday, as in Sweden

# Django's English locale also reads 10/25/2006 (month first), which a reader in Sweden takes for
# the 10th of something else. Only ISO is unambiguous (the browsers' date fields send it).
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M"]
