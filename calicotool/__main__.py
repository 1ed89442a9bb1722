from calicotool.cli.main import main

raise SystemExit(main())
