"""The accessibility statement's facts that change when it is reviewed. DIGG asks that the
statement says when it was prepared and when it was last reviewed: at each review, update
REVIEWED and the known problems in templates/accessibility.html."""

import datetime

STATEMENT = {
    "prepared": datetime.date(2026, 11, 25),
    "reviewed": datetime.date(2026, 12, 6),
    # Where the Agency for Digital Government (DIGG) takes complaints about a public body's
    # digital accessibility (anmälan om bristande tillgänglighet).
    "digg_complaint_url": "https://www.digg.se/tdosanmalan",
}
