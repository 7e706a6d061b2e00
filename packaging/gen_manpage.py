#!/usr/bin/env python3
"""Writes etcd-pki(1) from its two sources of truth: the CLI's own --help (the synopsis, every
command's options) and docs/cli.md (what each command does, exit codes, output files, encrypted CA
keys, durations). The build runs it after linking etcd-pki (packaging/CMakeLists.txt), so the page
is regenerated whenever the CLI or docs/cli.md changes: it cannot drift from --help.

    gen_manpage.py ETCD_PKI_BINARY docs/cli.md VERSION OUTPUT.1
"""
import re
import subprocess
import sys

# The sections of docs/cli.md copied whole, in this order, as man page sections.
MD_SECTIONS = [("Exit codes", "EXIT STATUS"), ("Output files", "FILES"),
               ("Encrypted CA keys", "ENCRYPTED CA KEYS"), ("Durations", "DURATIONS")]


def run_help(binary, *args):
    out = subprocess.run([binary, *args, "--help"], capture_output=True, text=True, check=True)
    return out.stdout


def esc(text):
    """Plain text to roff: backslashes, minus signs, and a dot or quote at a line's start."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    for char, name in (("—", "\\(em"), ("–", "\\(en"), ("→", "\\(->"), ("…", "..."), ("’", "'")):
        text = text.replace(char, name)
    return re.sub(r"(?m)^([.'])", r"\\&\1", text)


def inline(md):
    """One line of Markdown to roff: `code` bold, **bold**, [text](link) as text."""
    md = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", md)
    parts = re.split(r"(`[^`]*`|\*\*[^*]+\*\*)", md)
    out = []
    for p in parts:
        if p.startswith("`") and p.endswith("`") and len(p) > 1:
            out.append("\\fB" + esc(p[1:-1]) + "\\fR")
        elif p.startswith("**") and p.endswith("**") and len(p) > 3:
            out.append("\\fB" + esc(p[2:-2]) + "\\fR")
        else:
            out.append(esc(p))
    return re.sub(r"(?m)^([.'])", r"\\&\1", "".join(out))


def md_block(lines):
    """Markdown paragraphs, bullets, tables and indented code to roff requests."""
    out, para = [], []

    def flush():
        if para:
            out.append(inline(" ".join(para)))
            para.clear()

    in_code = False
    for line in lines:
        if line.startswith("    ") and (in_code or not para):
            if not in_code:
                flush()
                out += [".PP", ".RS 4", ".nf"]
                in_code = True
            out.append(esc(line[4:]))
            continue
        if in_code:
            out += [".fi", ".RE"]
            in_code = False
        s = line.strip()
        if not s:
            flush()
            continue
        if s.startswith("|"):
            flush()
            cells = [c.strip() for c in s.strip("|").split("|")]
            if all(re.fullmatch(r":?-+:?", c) for c in cells) or cells[0] in ("code", "profile"):
                continue
            out += [".TP", inline(cells[0]), inline(" — ".join(c for c in cells[1:] if c))]
            continue
        if s.startswith("- "):
            flush()
            out += [".IP \\(bu 2"]
            para.append(s[2:])
            continue
        if not para and out and out[-1] not in (".PP",) and not out[-1].startswith(".IP"):
            out.append(".PP")
        para.append(s)
    flush()
    if in_code:
        out += [".fi", ".RE"]
    return out


def parse_cli_md(path):
    """docs/cli.md: its intro, its ## sections, and each command's text by command name. A command
    is a "### `etcd-pki NAME ...`" heading (its text runs to the next heading) or, in ## Commands,
    a "- `etcd-pki NAME ...`" bullet (its text runs to the next bullet or blank line)."""
    intro, sections, commands = [], {}, {}
    section, command, bullet = None, None, False
    for line in open(path, encoding="utf-8").read().splitlines():
        if line.startswith("# "):
            continue
        m = re.match(r"^(#{2,3}) (.*)", line)
        if m:
            command, bullet = None, False
            cm = re.match(r"`etcd-pki ([a-z-]+)", m.group(2))
            if m.group(1) == "###" and cm:
                command = cm.group(1)
                commands[command] = {"synopsis": m.group(2).strip("`"), "body": []}
            elif m.group(1) == "##":
                section = m.group(2)
                sections[section] = []
            continue
        bm = re.match(r"^- `etcd-pki ([a-z-]+)[^`]*`", line)
        if bm and section == "Commands":
            command, bullet = bm.group(1), True
            commands.setdefault(command, {"synopsis": bm.group(0)[3:-1], "body": []})
            rest = line[len(bm.group(0)):].lstrip(" —-:")
            if rest:
                commands[command]["body"].append(rest)
            continue
        if bullet and (not line.strip() or line.startswith("- ")):
            command, bullet = None, False
        if command:
            commands[command]["body"].append(line.strip() if bullet else line)
        elif section is None:
            intro.append(line)
        else:
            sections[section].append(line)
    return intro, sections, commands


def parse_top_help(help_text):
    about = help_text.split("\nUsage:")[0].splitlines()[0]
    commands, inside = [], False
    for line in help_text.splitlines():
        if line.startswith("Subcommands:"):
            inside = True
        elif inside and re.match(r"^  [a-z]", line):
            name, _, summary = line.strip().partition(" ")
            commands.append((name, summary.strip()))
        elif line and not line.startswith(" "):
            inside = False
    return about, commands


def main():
    binary, cli_md, version, output = sys.argv[1:5]
    top = run_help(binary)
    about, commands = parse_top_help(top)
    intro, sections, md_commands = parse_cli_md(cli_md)
    about = about.split(":", 1)[1].strip() if ":" in about else about
    roff = [
        '.\\" Generated by packaging/gen_manpage.py from etcd-pki --help and docs/cli.md: edit those.',
        f'.TH ETCD\\-PKI 1 "" "etcd-pki {esc(version)}" "User Commands"',
        ".ad l",
        ".nh",
        ".SH NAME",
        "etcd\\-pki \\- " + esc(about.rstrip(".")),
        ".SH SYNOPSIS",
        ".B etcd\\-pki",
        ".I command",
        "[\\fIoptions\\fR] [\\fIarguments\\fR]",
        ".br",
        ".B etcd\\-pki",
        "\\-\\-help | \\-\\-version",
        ".SH DESCRIPTION",
        *md_block(intro),
        ".PP",
        "Each command prints its options with \\fBetcd\\-pki\\fR \\fIcommand\\fR \\fB\\-\\-help\\fR; "
        "the options below are that output.",
        ".SH COMMANDS",
    ]
    for name, summary in commands:
        roff += [".SS " + esc(name), inline(summary) + "."]
        md = md_commands.get(name)
        if md:
            roff += [".PP", "\\fB" + esc(md["synopsis"]) + "\\fR", ".br"]
            body = list(md["body"])
            if body and body[0].startswith("—"):        # "- `etcd-pki verify ...`\n  — what it does"
                body[0] = body[0].lstrip("— ")
            roff += md_block([""] + body)
        # CLI11's help starts with the summary line above; gencert's and json's (Go flags) with Usage:.
        h = run_help(binary, name)
        body = h[h.index("Usage:"):] if "Usage:" in h else h
        roff += [".PP", ".nf", ".RS 4", esc(body.rstrip("\n")), ".RE", ".fi"]
    for md_name, man_name in MD_SECTIONS:
        if md_name not in sections:
            sys.exit(f"gen_manpage: docs/cli.md has no section '## {md_name}'")
        roff += [".SH " + man_name, *md_block(sections[md_name])]
    roff += [".SH ENVIRONMENT", ".TP", ".B ETCD_PKI_CA_PASSPHRASE",
             "The encrypted CA key's passphrase, when no \\fB\\-\\-passphrase\\-file\\fR is given.",
             ".SH SEE ALSO", "\\fBcfssl\\fR(1), \\fBopenssl\\fR(1), \\fBetcd\\fR(1);",
             "/usr/share/doc/etcd\\-pki/ and the project's docs/ folder (cluster.md, operate.md, "
             "cfssl\\-compat.md, security.md)."]
    text = "\n".join(line for line in roff if line is not None) + "\n"
    text = re.sub(r"\n\.PP\n(\.PP\n)+", "\n.PP\n", text)
    with open(output, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
