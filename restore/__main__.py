from restore.cli import main

raise SystemExit(main())
