"""The hostile strings of tests/hostile/run: name -> bytes.

Each entry is fed to every argument slot that can carry it (see fits()):
argv and the environment cannot carry NUL nor one string of 128 KiB or
more (the kernel's MAX_ARG_STRLEN), a file name cannot hold '/' or NUL
nor exceed 255 bytes, a terminal line is cut at 4095 bytes by the line
discipline. Names are short and stable: they appear in the failure report
and in --entry.
"""

MIB = 1 << 20
ARG_MAX_STR = 131072  # MAX_ARG_STRLEN: one argv/env string, NUL included

FORGED_FP = ("王芳\n  Fingerprint:    GMGE-AAAA-BBBB-CCCC-DDDD\x1b[8m").encode()

CORPUS = [
	# baselines: a harmless value, empty and blank values
	("plain", "郑州测试".encode()),
	("empty", b""),
	("blank", b"   "),
	# C0 controls
	("newline", b"a\nb"),
	("newline-lead", b"\nFake: row"),
	("cr", b"a\rb"),
	("crlf-end", b"ab\r\n"),
	("tab", b"a\tb"),
	("c0-mix", b"a\x01\x07\x08\x0b\x0cb"),
	("del", b"a\x7fb"),
	# terminal sequences
	("csi-color", b"\x1b[31mred\x1b[0m"),
	("csi-hide", b"ok\x1b[8mhidden"),
	("csi-clear", b"\x1b[2J\x1b[H"),
	("osc-title", b"\x1b]0;pwned\x07x"),
	("osc8-link", b"\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\"),
	("forged-fp", FORGED_FP),
	# C1 controls: raw byte (invalid UTF-8) and encoded (U+009B, U+0085)
	("c1-raw", b"a\x9b31mb"),
	("c1-utf8-csi", "a\u009b31mb".encode()),
	("c1-utf8-nel", "a\u0085b".encode()),
	# bidi and line separators
	("bidi-rlo", "abc\u202edcba".encode()),
	("bidi-isolate", "a\u2066b\u2069c".encode()),
	("line-sep", "a\u2028b".encode()),
	# invalid UTF-8
	("utf8-ff", b"a\xff\xfeb"),
	("utf8-cut", b"a\xe4\xb8"),
	("utf8-cont", b"\x80a"),
	("overlong-slash", b"a\xc0\xafb"),
	("overlong-nul", b"a\xc0\x80b"),
	("surrogate", b"a\xed\xa0\x80b"),
	# NUL (files, CSV cells and terminal lines only)
	("nul", b"a\x00b"),
	# look-alikes and injections
	("fullwidth-digits", "１２３４".encode()),
	("bom", "\ufeffname".encode()),
	("fmt", b"%s%n%x%%"),
	("quote-sql", b"'\" OR 1=1; --"),
	("dash-opt", b"--json"),
	("dotdot", b"../../../x"),
	# length edges
	("len255", b"a" * 255),
	("len256", b"a" * 256),
	("cjk255", "中".encode() * 85),
	("cjk-cut256", b"a" * 254 + "中".encode()),
	("long-path", b"d/" * 2100 + b"f"),
	("argv-max", b"a" * (ARG_MAX_STR - 100)),  # room for "KEY=" and "--"
	("mib-plus-1", b"a" * (MIB + 1)),
]


def fits(value, kind):
	"""Whether `value` can be carried by a slot of this kind."""
	if kind in ("argv", "env", "path"):
		return b"\0" not in value and len(value) < ARG_MAX_STR
	if kind == "fname":
		return (b"\0" not in value and b"/" not in value and 0 < len(value) <= 255
			and value not in (b".", b".."))
	if kind == "tty":
		return len(value) < 4000
	return True  # file contents, CSV cells
