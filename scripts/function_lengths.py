#!/usr/bin/env python3
"""Lists C++ functions (and lambdas at namespace scope) longer than a limit.

A function starts at a line whose code ends with '{' after a ')' (optionally followed by
const/noexcept/override/-> type/initializer list), outside any other function's body; it
ends at the matching '}'. Strings, characters and comments are skipped when counting braces.
Usage: function_lengths.py [--max N] FILE...   exit 1 when a function is longer than N lines.
"""
import re
import sys

HEAD = re.compile(r'\)\s*(const\s*)?(noexcept\s*)?(override\s*)?(->\s*[\w:<>,\s*&]+)?\s*\{\s*$')
CTRL = re.compile(r'^\s*(if|for|while|switch|catch|do|else|return|namespace|struct|class|enum|union)\b')


def strip(line, state):
    """Code of `line` without strings, chars and comments; state carries block comments."""
    out, i, n = [], 0, len(line)
    while i < n:
        if state['block']:
            j = line.find('*/', i)
            if j < 0:
                return ''.join(out)
            state['block'], i = False, j + 2
            continue
        c = line[i]
        if line.startswith('//', i):
            break
        if line.startswith('/*', i):
            state['block'], i = True, i + 2
            continue
        if line.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', line[i:])
            if m:
                end = line.find(')' + m.group(1) + '"', i)
                if end < 0:
                    state['raw'] = ')' + m.group(1) + '"'
                    return ''.join(out)
                i = end + len(m.group(1)) + 2
                out.append('""')
                continue
        if c in '"\'':
            j = i + 1
            while j < n and line[j] != c:
                j += 2 if line[j] == '\\' else 1
            out.append(c + c)
            i = j + 1
            continue
        out.append(c)
        i += 1
    return ''.join(out)


def functions(path):
    state = {'block': False, 'raw': None}
    depth, start, name, fdepth = 0, None, None, None
    with open(path, encoding='utf-8', errors='replace') as f:
        lines = f.readlines()
    for no, line in enumerate(lines, 1):
        if state['raw']:
            k = line.find(state['raw'])
            if k < 0:
                continue
            line, state['raw'] = line[k + len(state['raw']):], None
        code = strip(line.rstrip('\n'), state)
        if start is None and HEAD.search(code) and not CTRL.match(code) and '=' not in code.split('(')[0]:
            start, fdepth = no, depth
            # the head may span lines: take the last line with an identifier before '('
            k = no - 1
            while k > 0 and '(' not in lines[k - 1 + 1] and k > no - 6:
                k -= 1
            name = code.strip() if '(' in code else lines[no - 2].strip() + ' ' + code.strip()
        depth += code.count('{') - code.count('}')
        if start is not None and depth <= fdepth:
            yield path, start, no, no - start + 1, name[:90]
            start = None


def main(argv):
    limit = 80
    if argv[:1] == ['--max']:
        limit, argv = int(argv[1]), argv[2:]
    bad = [f for p in argv for f in functions(p) if f[3] > limit]
    for path, a, b, n, name in sorted(bad, key=lambda f: -f[3]):
        print(f'{path}:{a}-{b}: {n} lines: {name}')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
