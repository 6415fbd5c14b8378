from nomad_bridge.cli import main

raise SystemExit(main())
