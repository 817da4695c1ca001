"""Caller audio for SIPp (play_pcap_audio), made from sip-tester's own captures.

- `dtmf_55.pcap`: two RFC 2833 "5"s. Playing dtmf_2833_5.pcap twice does not work: both copies
  carry the same RTP timestamps and Asterisk takes the second for a repeat of the first. The
  second copy's sequence numbers and timestamps are moved on, so Asterisk hears "55".
- `silence.pcap`: 60 s of A-law silence, as a phone on a silent line keeps sending.
- `speech_then_silence.pcap`: g711a.pcap (4.7 s of speech in 7 s) then 30 s of silence, with
  one continuous RTP stream.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from pathlib import Path

PCAP_HEADER = struct.Struct("<IHHiIII")
RECORD_HEADER = struct.Struct("<IIII")
RTP_HEADER = struct.Struct(">BBHII")
ETHERNET = 1
ALAW_SILENCE = 0xD5
PTIME_S = 0.02  # 20 ms per packet, 160 samples at 8 kHz


@dataclass(frozen=True)
class Packet:
    """One captured frame: capture time, the bytes before the RTP header, and the RTP packet."""

    time: float
    prefix: bytes  # Ethernet + IPv4 + UDP headers
    rtp: bytes

    @property
    def header(self) -> tuple[int, int, int, int, int]:
        vpxcc, mpt, seq, timestamp, ssrc = RTP_HEADER.unpack_from(self.rtp)
        return vpxcc, mpt, seq, timestamp, ssrc

    def moved(self, seconds: float, seq_step: int, ts_step: int) -> Packet:
        vpxcc, mpt, seq, timestamp, ssrc = self.header
        header = RTP_HEADER.pack(
            vpxcc, mpt, (seq + seq_step) & 0xFFFF, (timestamp + ts_step) & 0xFFFFFFFF, ssrc
        )
        return replace(self, time=self.time + seconds, rtp=header + self.rtp[RTP_HEADER.size :])


def read_pcap(path: Path) -> list[Packet]:
    data = path.read_bytes()
    magic, *_rest, link = PCAP_HEADER.unpack_from(data)
    if magic != 0xA1B2C3D4 or link != ETHERNET:
        raise ValueError(f"{path}: not a little-endian Ethernet pcap")
    packets, offset = [], PCAP_HEADER.size
    while offset + RECORD_HEADER.size <= len(data):
        seconds, micros, length, _orig = RECORD_HEADER.unpack_from(data, offset)
        frame = data[offset + RECORD_HEADER.size : offset + RECORD_HEADER.size + length]
        ip_header = (frame[14] & 0x0F) * 4
        rtp_at = 14 + ip_header + 8
        packets.append(Packet(seconds + micros / 1e6, frame[:rtp_at], frame[rtp_at:]))
        offset += RECORD_HEADER.size + length
    return packets


def _frame(prefix: bytes, rtp: bytes) -> bytes:
    """Fix the IPv4 and UDP lengths for a new payload size; UDP checksum 0 means none."""
    ip_at = 14
    ip_len = (prefix[ip_at] & 0x0F) * 4
    udp_at = ip_at + ip_len
    ip = bytearray(prefix[ip_at:udp_at])
    struct.pack_into(">H", ip, 2, ip_len + 8 + len(rtp))
    struct.pack_into(">H", ip, 10, 0)
    struct.pack_into(">H", ip, 10, _ip_checksum(bytes(ip)))
    udp = bytearray(prefix[udp_at : udp_at + 8])
    struct.pack_into(">HH", udp, 4, 8 + len(rtp), 0)
    return prefix[:ip_at] + bytes(ip) + bytes(udp) + rtp


def _ip_checksum(header: bytes) -> int:
    total: int = sum(struct.unpack(f">{len(header) // 2}H", header))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def write_pcap(path: Path, packets: list[Packet]) -> None:
    chunks = [PCAP_HEADER.pack(0xA1B2C3D4, 2, 4, 0, 0, 65535, ETHERNET)]
    for packet in packets:
        frame = _frame(packet.prefix, packet.rtp)
        seconds = int(packet.time)
        micros = round((packet.time - seconds) * 1e6)
        chunks.append(RECORD_HEADER.pack(seconds, micros, len(frame), len(frame)))
        chunks.append(frame)
    path.write_bytes(b"".join(chunks))


def digits(templates: dict[str, list[Packet]], sequence: str, gap_s: float = 0.5) -> list[Packet]:
    """RFC 2833 digits one after the other, each copy's RTP numbering moved on."""
    out: list[Packet] = []
    start = templates[sequence[0]][0].time
    for index, digit in enumerate(sequence):
        packets = templates[digit]
        shift = start + index * gap_s - packets[0].time
        out += [p.moved(shift, seq_step=100 * index, ts_step=8000 * index) for p in packets]
    return out


def silence(template: Packet, seconds: float, *, after: Packet | None = None) -> list[Packet]:
    """A-law silence, 20 ms per packet, continuing `after`'s stream when given."""
    _vpxcc, _mpt, seq, timestamp, ssrc = (after or template).header
    start = (after or template).time
    count = round(seconds / PTIME_S)
    payload = bytes([ALAW_SILENCE]) * 160
    first = 1 if after else 0
    return [
        Packet(
            start + (first + i) * PTIME_S,
            template.prefix,
            RTP_HEADER.pack(
                0x80,  # RTP version 2, no padding, extension or CSRC
                8,
                (seq + first + i) & 0xFFFF,
                (timestamp + (first + i) * 160) & 0xFFFFFFFF,
                ssrc,
            )
            + payload,
        )
        for i in range(count)
    ]


def build_caller_audio(sip_tester_dir: Path, out_dir: Path) -> list[Path]:
    """Write the derived pcaps into out_dir (inside the sandbox, beside the scenarios)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    speech = read_pcap(sip_tester_dir / "g711a.pcap")
    templates = {d: read_pcap(sip_tester_dir / f"dtmf_2833_{d}.pcap") for d in "0123456789"}
    outputs = {
        "dtmf_55.pcap": digits(templates, "55"),
        "silence.pcap": silence(speech[0], 60.0),
        "speech_then_silence.pcap": speech + silence(speech[0], 30.0, after=speech[-1]),
    }
    written = []
    for name, packets in outputs.items():
        target = out_dir / name
        write_pcap(target, packets)
        written.append(target)
    return written
