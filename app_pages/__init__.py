"""The dashboard's pages (run by path from dashboard.py's st.navigation) and the helpers they share."""
