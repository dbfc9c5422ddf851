"""Page-side state and words without Streamlit: the working setup (`draft`), the session's keys
(`state`), the forms behind the widgets (`forms`) and the page's words (`labels`)."""

from .draft import Chosen, DataKind, Draft, Upload
from .forms import LayerDraft, ModelDraft, Settings
from .labels import Kind, Note, fill, say
from .state import PageState, Sweep

__all__ = ["Chosen", "DataKind", "Draft", "Kind", "LayerDraft", "ModelDraft", "Note", "PageState", "Settings",
           "Sweep", "Upload", "fill", "say"]
