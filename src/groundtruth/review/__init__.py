"""`gt review`: a local web app to settle disputed items, one decision at a time.

`ReviewSession` holds the dataset, the ranked queue of disputes and the decisions log;
`ReviewServer` serves it (standard library `http.server`, a self-contained page).
"""

from ._server import ReviewServer, is_loopback
from ._session import PAGE_SIZE, ReviewInputError, ReviewSession

__all__ = ["PAGE_SIZE", "ReviewInputError", "ReviewServer", "ReviewSession", "is_loopback"]
