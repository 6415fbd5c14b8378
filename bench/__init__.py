"""Side-by-side benchmarks of nomad-bridge: run with `python -m bench --quick|--full`.

Everything runs on loopback in its own processes (simulator, bridge, anchors, load
generators), and every figure is a ratio against an anchor measured in the same run.
"""
