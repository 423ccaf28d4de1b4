"""The parts of the pack station (:mod:`floor_app.ui.screens.packer_home`), one per flow.

* :mod:`.parcel`: the parcel opened by its tote or order, its lines verified item by item,
  holding it when an item is missing;
* :mod:`.weighing`: the carton and the expected weight, the scale read in a worker, a
  supervisor's override of a weight outside tolerance;
* :mod:`.labelling`: the label printed in a worker, its preview, a reprint with a reason;
* :mod:`.carrier`: the carrier service chosen by the hub, and changing it with a reason;
* :mod:`.steps`: what the packer does next (the prompt).

Each part is the widget that shows its flow; what happens in a worker or a dialog comes
back to the screen as one of the widget's own messages.
"""
