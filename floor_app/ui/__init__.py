"""The Textual app: screens, widgets, the stylesheet and the language catalogues.
The only package that imports Textual.

Textual repaints at most ``TEXTUAL_FPS`` times a second (60 by default) and a change waits
for the next tick, which alone adds up to 16.7 ms between a confirmed scan and the screen
showing it. The floor asks for 120 (a repaint happens only when something changed, so an
idle screen costs nothing more); an operator may still set ``TEXTUAL_FPS`` themselves.
This must run before Textual is first imported, which is why it lives here.
"""

import os

os.environ.setdefault("TEXTUAL_FPS", "120")
