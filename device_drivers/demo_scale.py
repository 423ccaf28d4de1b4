"""The demo station's scale: it weighs what the packer put in the carton.

A real scale weighs whatever lies on it; the demo has no parcel, so the pack station tells
the scale what it holds (:meth:`DemoScale.put`: the weight of each unit in the carton and
the carton's tare) and the scale reads their sum with a little noise, as a bench scale's
last digit wanders. :meth:`DemoScale.misweigh_next` makes the next parcel put on it read
clearly off (about a quarter heavier, at least 150 g), as if something else had fallen in,
so the demo can show the weight check refusing it.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from decimal import Decimal

from device_drivers.fakes import FakeScale

#: How far the next reading is off after :meth:`DemoScale.misweigh_next`: a share of the
#: parcel's weight and a floor in grams, both well outside any pack station's tolerance.
MISWEIGH_SHARE = Decimal("0.25")
MISWEIGH_MIN_G = 150


@dataclass(frozen=True, slots=True)
class Parcel:
    """What lies on the scale: the weight of each unit in the carton and the carton's tare."""

    unit_weights_g: tuple[int, ...]
    tare_g: int

    @property
    def grams(self) -> int:
        """The true weight: every unit plus the carton."""
        return sum(self.unit_weights_g) + self.tare_g


class DemoScale(FakeScale):
    """A :class:`FakeScale` that weighs the parcel it is given, give or take its noise.

    The noise is at most ``noise_g`` grams plus ``noise_share`` of the weight (2 g + 0.5 %
    by default: a 1 kg parcel reads within 7 g of its weight), far inside the pack station's
    tolerance (5 %, at least 30 g). Each parcel swings for two readings before it settles.
    """

    def __init__(
        self,
        name: str = "scale",
        *,
        noise_g: int = 2,
        noise_share: Decimal = Decimal("0.005"),
        rng: random.Random | None = None,
        required: bool = False,
    ) -> None:
        super().__init__(name, required=required)
        self.noise_g = noise_g
        self.noise_share = noise_share
        self._rng = rng or random.Random()
        self._misweigh = False
        self._demo_lock = threading.Lock()

    @property
    def misweigh_armed(self) -> bool:
        """True while the next parcel put on the scale will read off."""
        return self._misweigh

    def misweigh_next(self) -> None:
        """The next parcel put on the scale reads clearly off (once)."""
        with self._demo_lock:
            self._misweigh = True

    def put(self, parcel: Parcel) -> int:
        """Put ``parcel`` on the scale; the grams it will read once settled."""
        with self._demo_lock:
            off, self._misweigh = self._misweigh, False
        grams = parcel.grams
        if off:
            reading = grams + max(MISWEIGH_MIN_G, int(grams * MISWEIGH_SHARE))
        else:
            spread = float(self.noise_g + grams * self.noise_share)
            reading = max(0, grams + int(self._rng.uniform(-spread, spread)))  # towards 0
        self.place(Decimal(reading) / 1000, "kg")
        self.unstable_for(2)
        return reading
