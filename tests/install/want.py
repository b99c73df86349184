#!/usr/bin/env python3
"""What `msign show` says about each FILE, as examples/cdhashes would
print it (tests/install/run.sh): for the i-th file, DIR/i.want holds one
`ARCH CDHASH IDENTIFIER TEAM` line per signed slice (spaces escaped as
\\x20, TEAM - when not set) and DIR/i.nerr the number of slices (or
files) msign cannot read. One process for all files: a python start-up
per file cost more than the comparisons.

  want.py MSIGN DIR FILE...
"""
import json
import subprocess
import sys


def field(text, key):
    for line in text.splitlines():
        if line.startswith(key + '='):
            return line[len(key) + 1:]
    return None


def want(msign, path):
    lines, nerr = [], 0
    j = subprocess.run([msign, 'show', '--json', path], capture_output=True)
    try:
        slices = json.loads(j.stdout).get('slices') or []
    except ValueError:
        slices = []
    if not slices:
        return lines, 1
    for s in slices:
        a = s['arch']
        r = subprocess.run([msign, 'show', '-v3', '--arch', a, path],
                           capture_output=True, text=True, errors='surrogateescape')
        cd = field(r.stdout, 'CDHash')
        if cd:
            ident = (field(r.stdout, 'Identifier') or '').replace(' ', '\\x20')
            team = (field(r.stdout, 'TeamIdentifier') or '').replace(' ', '\\x20')
            if team == 'not\\x20set':
                team = '-'
            lines.append('%s %s %s %s' % (a, cd, ident, team))
        elif not r.stderr.rstrip('\n').endswith(': code object is not signed at all'):
            nerr += 1
    return lines, nerr


def main():
    msign, out = sys.argv[1], sys.argv[2]
    for i, path in enumerate(sys.argv[3:]):
        lines, nerr = want(msign, path)
        with open('%s/%d.want' % (out, i), 'w', errors='surrogateescape') as f:
            f.write(''.join(l + '\n' for l in lines))
        with open('%s/%d.nerr' % (out, i), 'w') as f:
            f.write('%d\n' % nerr)


main()
