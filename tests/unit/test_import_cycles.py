"""No two modules of Linkline import each other, however indirectly.

The layer contracts (lint-imports) only see imports between layers; a cycle inside one
layer, or between two modules of one folder, slips past them. Such cycles are how the
accounts/staff knot grew, so this test fails on any, naming the modules in each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import grimp

PACKAGES = ("bot", "scheduling", "channels", "store")


def import_cycles(imports: Mapping[str, Iterable[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm,
    written without recursion so a deep import chain cannot overflow the stack)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[set[str]] = []
    for root in imports:
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, list(imports.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, todo = work[-1]
            if todo:
                target = todo.pop()
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, list(imports.get(target, ()))))
                elif target in on_stack:
                    low[module] = min(low[module], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == module:
                        break
                if len(component) > 1:
                    cycles.append(component)
    return cycles


def test_the_finder_catches_a_cycle_of_two_and_one_of_three() -> None:
    made_up = {
        "a": ["b"],
        "b": ["a", "c"],  # a <-> b
        "c": ["d"],
        "d": ["e"],
        "e": ["c", "f"],  # c -> d -> e -> c
        "f": [],
        "g": ["g"],  # a module importing itself is no cycle between modules
    }
    cycles = sorted(import_cycles(made_up), key=len)
    assert cycles == [{"a", "b"}, {"c", "d", "e"}]


def test_the_finder_passes_a_one_way_graph_and_a_long_chain() -> None:
    assert import_cycles({"a": ["b", "c"], "b": ["c"], "c": []}) == []
    chain = {f"m{i}": [f"m{i + 1}"] for i in range(5000)}
    assert import_cycles(chain) == []
    chain["m5000"] = ["m0"]
    assert [len(c) for c in import_cycles(chain)] == [5001]


def test_no_module_of_linkline_imports_itself_round_a_loop() -> None:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    imports = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    cycles = [sorted(c) for c in import_cycles(imports)]
    assert cycles == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)
