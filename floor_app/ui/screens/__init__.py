"""The app's screens: login, and a home screen per role."""
