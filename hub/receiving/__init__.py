"""Receiving goods: advance ship notices (:mod:`.files`), receipts counted on the floor
(:mod:`.receipts`) and the put-away work they make (:mod:`.putaway`)."""
