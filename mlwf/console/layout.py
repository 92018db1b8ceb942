"""A layered (Sugiyama-style) drawing of an Amazon States Language definition.

Nothing here knows today's definitions: states become nodes and their transitions edges,
so an edited definition is drawn from what it says. The layout runs top to bottom as the
Step Functions console draws it, with a Start and an End circle per scope:

1. edges: Next, Default, each Choices[i].Next, each Catch[i].Next (kind "catch") and End
   (to the End circle); a Retry is a loop on its state, labelled with its attempts;
2. cycles (a Choice looping back) are broken by reversing DFS back edges;
3. layers by longest path from Start; an edge spanning layers gets a dummy per layer;
4. order within a layer by barycenters, swept down and up a few times;
5. x by packing, then pulled towards the median of each node's neighbours without overlap;
6. a Map's item processor and each Parallel branch are laid out as their own scopes first,
   and their state becomes a cluster as big as what it holds.

The answer is plain JSON (for the page's SVG): every coordinate is computed here.
One module (~410 lines) on purpose: building the graph and laying it out recurse into each
other (a Map or Parallel node is sized by laying out its scopes first), so split they would
import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

START, END = "__start__", "__end__"
NODE_HEIGHT = 36
CIRCLE = 28
CHAR_WIDTH = 7.2  # of the page's 13 px sans-serif, generously
MIN_WIDTH = 120
PAD_X = 24
LAYER_GAP = 46
NODE_GAP = 36
CLUSTER_PAD = 16
CLUSTER_HEADER = 26
BRANCH_GAP = 24
SWEEPS = 8


@dataclass
class _Node:
    id: str
    width: float
    height: float
    state: dict[str, Any] | None = None  # None for Start, End and dummies
    kind: str = "state"  # state | start | end | dummy
    layer: int = 0
    order: float = 0.0
    x: float = 0.0  # centre
    y: float = 0.0  # top
    inner: dict[str, Any] | None = None  # a cluster's laid-out scopes


@dataclass
class _Edge:
    source: str
    target: str
    kind: str  # next | default | choice | catch | end | start
    label: str = ""
    reversed: bool = False
    chain: list[str] = field(default_factory=list)  # node ids from source to target


def state_width(name: str) -> float:
    return max(MIN_WIDTH, round(len(name) * CHAR_WIDTH + 2 * PAD_X))


def layout(definition: dict[str, Any]) -> dict[str, Any]:
    """The drawing of a whole definition: see `layout_scope` for its shape."""
    return layout_scope(definition)


def layout_scope(scope: dict[str, Any]) -> dict[str, Any]:
    """{"width", "height", "nodes": [...], "edges": [...]} for one scope (StartAt + States).

    Each node: id (the state name, or __start__/__end__), type, x/y (top left), width,
    height, and for Map/Parallel "scopes": the inner drawings, each with its own offset.
    Each edge: source, target, kind, label, points [[x, y], ...] from source to target.
    """
    states = scope.get("States")
    if not isinstance(states, dict):
        states = {}
    nodes: dict[str, _Node] = {
        START: _Node(START, CIRCLE, CIRCLE, kind="start"),
    }
    for name, state in states.items():
        state = state if isinstance(state, dict) else {}
        nodes[name] = _node_for(name, state)
    edges = _edges(scope, states)
    if any(e.target == END for e in edges):
        nodes[END] = _Node(END, CIRCLE, CIRCLE, kind="end")
    edges = [e for e in edges if e.source in nodes and e.target in nodes]
    _break_cycles(nodes, edges)
    _assign_layers(nodes, edges)
    layers = _insert_dummies(nodes, edges)
    _order(layers, nodes, edges)
    height = _place_y(layers, nodes)
    width = _place_x(layers, nodes, edges)
    return {
        "width": width,
        "height": height,
        "nodes": [_node_json(n) for n in nodes.values() if n.kind != "dummy"],
        "edges": [_edge_json(e, nodes) for e in edges],
    }


# --------------------------------------------------------------------------- graph


def _node_for(name: str, state: dict[str, Any]) -> _Node:
    kind = state.get("Type")
    width, height = state_width(name), NODE_HEIGHT
    inner = None
    if kind == "Map":
        processor = state.get("ItemProcessor") or state.get("Iterator") or {}
        inner = _cluster([layout_scope(processor)] if isinstance(processor, dict) else [])
    elif kind == "Parallel":
        raw = state.get("Branches")
        branches = raw if isinstance(raw, list) else []
        inner = _cluster([layout_scope(b) for b in branches if isinstance(b, dict)])
    if inner is not None:
        width = max(width, inner["width"])
        height = inner["height"]
    return _Node(name, width, height, state=state, inner=inner)


def _cluster(scopes: list[dict[str, Any]]) -> dict[str, Any]:
    """Scopes side by side inside a cluster: their offsets and the cluster's size."""
    x = CLUSTER_PAD
    placed = []
    tallest = 0.0
    for scope in scopes:
        placed.append({**scope, "dx": x, "dy": CLUSTER_HEADER + CLUSTER_PAD})
        x += scope["width"] + BRANCH_GAP
        tallest = max(tallest, scope["height"])
    width = (x - BRANCH_GAP if scopes else x) + CLUSTER_PAD
    return {
        "scopes": placed,
        "width": max(width, MIN_WIDTH),
        "height": CLUSTER_HEADER + 2 * CLUSTER_PAD + tallest,
    }


def _edges(scope: dict[str, Any], states: dict[str, Any]) -> list[_Edge]:
    edges: list[_Edge] = []
    start = scope.get("StartAt")
    if isinstance(start, str):
        edges.append(_Edge(START, start, "start"))
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        kind = state.get("Type")
        for i, rule in enumerate(_list(state.get("Choices"))):
            if isinstance(rule.get("Next"), str):
                edges.append(_Edge(name, rule["Next"], "choice", _choice_label(rule, i)))
        if isinstance(state.get("Default"), str):
            edges.append(_Edge(name, state["Default"], "default", "Default"))
        if isinstance(state.get("Next"), str):
            edges.append(_Edge(name, state["Next"], "next"))
        for rule in _list(state.get("Catch")):
            if isinstance(rule.get("Next"), str):
                errors = ", ".join(str(e) for e in _list_any(rule.get("ErrorEquals")))
                edges.append(_Edge(name, rule["Next"], "catch", f"Catch: {errors}"))
        if state.get("End") is True or kind in ("Succeed", "Fail"):
            edges.append(_Edge(name, END, "end"))
    return edges


def _choice_label(rule: dict[str, Any], index: int) -> str:
    for key in ("Condition", "Variable"):
        if isinstance(rule.get(key), str):
            return str(rule[key])
    return f"Rule #{index + 1}"


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _list_any(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def retries(state: dict[str, Any]) -> list[dict[str, Any]]:
    """A state's Retry rules, as the page labels its retry loop."""
    return [
        {
            "errors": [str(e) for e in _list_any(rule.get("ErrorEquals"))],
            "max_attempts": rule.get("MaxAttempts", 3),
            "interval_seconds": rule.get("IntervalSeconds", 1),
            "backoff_rate": rule.get("BackoffRate", 2.0),
        }
        for rule in _list(state.get("Retry"))
    ]


# --------------------------------------------------------------------------- layers


def _break_cycles(nodes: dict[str, _Node], edges: list[_Edge]) -> None:
    """Reverse the back edges a depth-first search from Start finds (then every state)."""
    out: dict[str, list[_Edge]] = {n: [] for n in nodes}
    for edge in edges:
        if edge.source != edge.target:
            out[edge.source].append(edge)
    colour: dict[str, int] = dict.fromkeys(nodes, 0)  # 0 new, 1 on the stack, 2 done

    def visit(root: str) -> None:
        stack = [(root, iter(out[root]))]
        colour[root] = 1
        while stack:
            node, children = stack[-1]
            edge = next(children, None)
            if edge is None:
                colour[node] = 2
                stack.pop()
                continue
            if colour[edge.target] == 1:
                edge.reversed = True
            elif colour[edge.target] == 0:
                colour[edge.target] = 1
                stack.append((edge.target, iter(out[edge.target])))

    for root in nodes:  # Start first (dicts keep order), then any unreachable state
        if colour[root] == 0:
            visit(root)


def _directed(edge: _Edge) -> tuple[str, str]:
    return (edge.target, edge.source) if edge.reversed else (edge.source, edge.target)


def _assign_layers(nodes: dict[str, _Node], edges: list[_Edge]) -> None:
    """Longest path from the sources; End goes below everything."""
    incoming: dict[str, list[str]] = {n: [] for n in nodes}
    outgoing: dict[str, list[str]] = {n: [] for n in nodes}
    for edge in edges:
        source, target = _directed(edge)
        if source != target:
            incoming[target].append(source)
            outgoing[source].append(target)
    pending = {n: len(incoming[n]) for n in nodes}
    ready = [n for n in nodes if pending[n] == 0]
    while ready:
        current = ready.pop(0)
        for target in outgoing[current]:
            nodes[target].layer = max(nodes[target].layer, nodes[current].layer + 1)
            pending[target] -= 1
            if pending[target] == 0:
                ready.append(target)
    if END in nodes:
        nodes[END].layer = max(n.layer for k, n in nodes.items() if k != END) + 1


def _insert_dummies(nodes: dict[str, _Node], edges: list[_Edge]) -> list[list[str]]:
    for index, edge in enumerate(edges):
        source, target = _directed(edge)
        chain = [source]
        for layer in range(nodes[source].layer + 1, nodes[target].layer):
            dummy = f"__dummy_{index}_{layer}"
            nodes[dummy] = _Node(dummy, 0, NODE_HEIGHT, kind="dummy", layer=layer)
            chain.append(dummy)
        chain.append(target)
        edge.chain = list(reversed(chain)) if edge.reversed else chain
    count = max(n.layer for n in nodes.values()) + 1
    layers: list[list[str]] = [[] for _ in range(count)]
    for node in nodes.values():
        layers[node.layer].append(node.id)
    for members in layers:
        for i, node_id in enumerate(members):
            nodes[node_id].order = i
    return layers


def _order(layers: list[list[str]], nodes: dict[str, _Node], edges: list[_Edge]) -> None:
    """Barycenter sweeps: each node takes the mean position of its neighbours in the layer
    just swept; ties keep the definition's order (stable sort)."""
    above: dict[str, list[str]] = {n: [] for n in nodes}
    below: dict[str, list[str]] = {n: [] for n in nodes}
    for edge in edges:
        chain = edge.chain if not edge.reversed else list(reversed(edge.chain))
        for upper, lower in zip(chain, chain[1:], strict=False):
            if upper != lower:
                below[upper].append(lower)
                above[lower].append(upper)
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        sequence = layers[1:] if downward else list(reversed(layers[:-1]))
        for layer in sequence:
            neighbours = above if downward else below

            def barycenter(node_id: str, neighbours: dict[str, list[str]] = neighbours) -> float:
                around = neighbours[node_id]
                if not around:
                    return nodes[node_id].order
                return sum(nodes[n].order for n in around) / len(around)

            layer.sort(key=barycenter)
            for i, node_id in enumerate(layer):
                nodes[node_id].order = i


def _place_y(layers: list[list[str]], nodes: dict[str, _Node]) -> float:
    y = 0.0
    for layer in layers:
        tallest = max(nodes[n].height for n in layer)
        for node_id in layer:
            node = nodes[node_id]
            node.y = y + (tallest - node.height) / 2
        y += tallest + LAYER_GAP
    return y - LAYER_GAP


def _place_x(layers: list[list[str]], nodes: dict[str, _Node], edges: list[_Edge]) -> float:
    """Pack each layer, then pull every node towards the median of its neighbours, keeping
    the order and the gaps; a few rounds settle it. Returns the drawing's width."""
    neighbours: dict[str, list[str]] = {n: [] for n in nodes}
    for edge in edges:
        for a, b in zip(edge.chain, edge.chain[1:], strict=False):
            if a != b:
                neighbours[a].append(b)
                neighbours[b].append(a)

    def gap(a: _Node, b: _Node) -> float:
        spacing = NODE_GAP if "dummy" not in (a.kind, b.kind) else NODE_GAP / 2
        return (a.width + b.width) / 2 + spacing

    for layer in layers:
        x = 0.0
        previous = None
        for node_id in layer:
            node = nodes[node_id]
            x = node.width / 2 if previous is None else x + gap(previous, node)
            node.x = x
            previous = node
    for _ in range(SWEEPS):
        for layer in layers:
            wanted = []
            for node_id in layer:
                around = sorted(nodes[n].x for n in neighbours[node_id])
                if around:
                    mid = len(around) // 2
                    median = around[mid] if len(around) % 2 else (around[mid - 1] + around[mid]) / 2
                    wanted.append(median)
                else:
                    wanted.append(nodes[node_id].x)
            _settle([nodes[n] for n in layer], wanted, gap)
    low = min(n.x - n.width / 2 for n in nodes.values())
    high = max(n.x + n.width / 2 for n in nodes.values())
    for node in nodes.values():
        node.x -= low
    return high - low


def _settle(row: list[_Node], wanted: list[float], gap: Any) -> None:
    """Move the nodes of one layer to their wanted x, as close as the order and gaps allow:
    a left-to-right pass pushes right, a right-to-left pass pulls back, then they average."""
    forward = list(wanted)
    for i in range(1, len(row)):
        forward[i] = max(forward[i], forward[i - 1] + gap(row[i - 1], row[i]))
    backward = list(wanted)
    for i in range(len(row) - 2, -1, -1):
        backward[i] = min(backward[i], backward[i + 1] - gap(row[i], row[i + 1]))
    for node, a, b in zip(row, forward, backward, strict=True):
        node.x = (a + b) / 2
    for i in range(1, len(row)):  # averaging two feasible rows keeps the gaps; be exact
        row[i].x = max(row[i].x, row[i - 1].x + gap(row[i - 1], row[i]))


# --------------------------------------------------------------------------- JSON


def _node_json(node: _Node) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": node.id,
        "type": {"start": "Start", "end": "End"}.get(node.kind, None),
        "x": round(node.x - node.width / 2, 1),
        "y": round(node.y, 1),
        "width": node.width,
        "height": node.height,
    }
    if node.state is not None:
        data["type"] = str(node.state.get("Type", "Unknown"))
        data["retry"] = retries(node.state)
        if node.inner is not None:
            data["scopes"] = node.inner["scopes"]
    return data


def _edge_json(edge: _Edge, nodes: dict[str, _Node]) -> dict[str, Any]:
    points: list[list[float]] = []
    chain = edge.chain
    for i, node_id in enumerate(chain):
        node = nodes[node_id]
        if node.kind == "dummy":
            points.append([round(node.x, 1), round(node.y, 1)])
            points.append([round(node.x, 1), round(node.y + node.height, 1)])
            continue
        going_down = i == 0 and len(chain) > 1 and nodes[chain[1]].layer > node.layer
        coming_down = i > 0 and nodes[chain[i - 1]].layer < node.layer
        if i == 0:
            y = node.y + node.height if going_down else node.y
        else:
            y = node.y if coming_down else node.y + node.height
        points.append([round(node.x, 1), round(y, 1)])
    return {
        "source": edge.source,
        "target": edge.target,
        "kind": edge.kind,
        "label": edge.label,
        "back": edge.reversed,
        "points": points,
    }
