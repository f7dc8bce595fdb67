#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The module graph of a C source tree has no cycle.

usage: check-layers.py DIR [DIR...]   (default: drivers/net/vdevpeer app/dpdk-vdevpeer)
       check-layers.py --dot DIR      print the graph (graphviz)

A module is x.c with its header x.h. Module A depends on module B when a
file of A includes "B.h" (quoted includes found in the same directory),
or when A's code (comments left out) names a function or variable that
B's .c defines without `static`: a shared header that declares everyone's
functions cannot hide a cycle of calls. Callbacks registered at run time
(the watchdog's round, zero-copy's holder test) are the deliberate
exceptions: the module that registers them depends on both.
Prints the cycles found and exits 1, or prints the layers and exits 0.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
STRING = re.compile(r'"(?:\\.|[^"\\])*"')
# a function defined at the start of a line, its type on the line before
FUNC_DEF = re.compile(r'^(?!static\b)[A-Za-z_][^\n;(]*\n([A-Za-z_]\w*)\(', re.M)
# a variable defined at file level: "type name[...] = " or "type name;"
VAR_DEF = re.compile(r'^(?!static\b|extern\b|typedef\b|struct\b[^=]*\{|enum\b|#)'
                     r'[A-Za-z_][\w \*]*?\b([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*(?:=|;)', re.M)
IDENT = re.compile(r'\b[A-Za-z_]\w*\b')


def code(text):
    return STRING.sub('""', COMMENT.sub(" ", text))


def graph(d):
    files = sorted(f for f in os.listdir(d) if f.endswith((".c", ".h")))
    mods = {os.path.splitext(f)[0] for f in files}
    g = {m: set() for m in mods}
    text = {}
    for f in files:
        with open(os.path.join(d, f), encoding="utf-8", errors="replace") as fh:
            text[f] = fh.read()
    owner = {}   # symbol -> module defining it
    for f in files:
        if f.endswith(".c"):
            c = code(text[f])
            for name in FUNC_DEF.findall(c) + VAR_DEF.findall(c):
                owner.setdefault(name, os.path.splitext(f)[0])
    for f in files:
        src = os.path.splitext(f)[0]
        for inc in INCLUDE.findall(text[f]):
            dst = os.path.splitext(os.path.basename(inc))[0]
            if dst in mods and dst != src:
                g[src].add(dst)
        if f.endswith(".c"):
            for name in set(IDENT.findall(code(text[f]))):
                dst = owner.get(name)
                if dst is not None and dst != src:
                    g[src].add(dst)
    return g


def cycles(g):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def layers(g):
    """Modules by depth: layer 0 depends on nothing of the tree."""
    depth = {}

    def d(v):
        if v not in depth:
            depth[v] = 0
            depth[v] = 1 + max((d(w) for w in g[v]), default=-1)
        return depth[v]
    for v in g:
        d(v)
    by = {}
    for v, k in depth.items():
        by.setdefault(k, []).append(v)
    return [sorted(by[k]) for k in sorted(by)]


def main(argv):
    dot = "--dot" in argv
    dirs = [a for a in argv[1:] if a != "--dot"] or ["drivers/net/vdevpeer", "app/dpdk-vdevpeer"]
    bad = 0
    for d in dirs:
        g = graph(d)
        if dot:
            print("digraph \"%s\" {" % d)
            for v in sorted(g):
                for w in sorted(g[v]):
                    print('  "%s" -> "%s";' % (v, w))
            print("}")
            continue
        cyc = cycles(g)
        if cyc:
            bad = 1
            for c in cyc:
                edges = ["%s -> %s" % (v, w) for v in c for w in sorted(g[v]) if w in c]
                print("%s: modules in a cycle: %s (%s)" % (d, ", ".join(c), "; ".join(edges)))
        else:
            print("%s: %d modules, no cycle; layers from the bottom:" % (d, len(g)))
            for i, ly in enumerate(layers(g)):
                print("  %d: %s" % (i, " ".join(ly)))
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv))
