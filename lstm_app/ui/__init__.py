"""Page-side state without Streamlit: the working setup (`draft`) and the session's keys (`state`)."""

from .draft import Chosen, Draft, Note, Upload
from .state import PageState

__all__ = ["Chosen", "Draft", "Note", "PageState", "Upload"]
