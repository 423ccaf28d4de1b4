"""The Textual app: screens, widgets, the stylesheet and the language catalogues.
The only package that imports Textual."""
