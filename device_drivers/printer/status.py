"""The Zebra host status reply to ``~HS``, parsed into a :class:`PrinterStatus`.

The reply is three strings, each framed by STX (0x02) and ETX (0x03) and followed by CR LF:

1. ``aaa,b,c,dddd,eee,f,g,h,iii,j,k,l``: communication settings, **b paper out**,
   **c pause**, label length in dots, **eee formats in the receive buffer**, buffer full,
   communications diagnostic mode, partial format, unused, corrupt RAM, under-temperature,
   over-temperature;
2. ``mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www``: function settings, unused, **o head up (open)**,
   **p ribbon out**, thermal transfer mode, print mode, print width mode, label waiting,
   labels remaining in batch, format while printing, graphics stored;
3. ``xxxx,y``: password, static RAM installed.

(ZPL II Programming Guide, ``~HS``.) A flag is ``1`` when set.
"""

from __future__ import annotations

from device_drivers.base import PrinterStatus

STX = 0x02
ETX = 0x03


class StatusReplyError(ValueError):
    """The bytes are not a complete ``~HS`` reply; the message says what is missing."""


def reply_complete(data: bytes) -> bool:
    """True once ``data`` holds three STX ... ETX strings (the whole reply)."""
    return data.count(bytes([ETX])) >= 3


def parse_host_status(data: bytes) -> PrinterStatus:
    """The status in a ``~HS`` reply; raises :class:`StatusReplyError`."""
    strings = []
    for chunk in data.split(bytes([STX]))[1:]:
        end = chunk.find(bytes([ETX]))
        if end < 0:
            raise StatusReplyError("status reply cut off (a string without ETX)")
        strings.append(chunk[:end].decode("ascii", "replace"))
    if len(strings) < 3:
        raise StatusReplyError(f"status reply has {len(strings)} of 3 strings")
    first = [f.strip() for f in strings[0].split(",")]
    second = [f.strip() for f in strings[1].split(",")]
    if len(first) < 12 or len(second) < 11:
        raise StatusReplyError(
            f"status reply has {len(first)} and {len(second)} fields, expected 12 and 11"
        )
    try:
        formats_waiting = int(first[4])
    except ValueError:
        raise StatusReplyError(f"formats in buffer is {first[4]!r}, not a number") from None
    return PrinterStatus(
        paper_out=_flag(first[1], "paper out"),
        paused=_flag(first[2], "pause"),
        head_open=_flag(second[2], "head up"),
        ribbon_out=_flag(second[3], "ribbon out"),
        labels_queued=formats_waiting,
        raw="\n".join(strings),
    )


def _flag(value: str, name: str) -> bool:
    if value not in ("0", "1"):
        raise StatusReplyError(f"{name} flag is {value!r}, not 0 or 1")
    return value == "1"


def host_status_reply(
    *,
    paper_out: bool = False,
    paused: bool = False,
    head_open: bool = False,
    ribbon_out: bool = False,
    formats_waiting: int = 0,
) -> bytes:
    """A ``~HS`` reply as a Zebra printer sends it (for tests and the printer simulator)."""
    first = f"030,{int(paper_out)},{int(paused)},1218,{formats_waiting:03d},0,0,0,000,0,0,0"
    second = f"000,0,{int(head_open)},{int(ribbon_out)},0,2,6,0,00000000,1,000"
    third = "1234,0"
    return b"".join(b"\x02" + s.encode("ascii") + b"\x03\r\n" for s in (first, second, third))
