from conda_source.cli import main

raise SystemExit(main())
