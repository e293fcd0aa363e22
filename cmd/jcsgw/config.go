package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
)

// applyConfigFile reads a JSON config file named by --config (or
// JCSGW_CONFIG) and makes its values the flags' defaults. Precedence, from
// strongest: command-line flags, JCSGW_* environment variables, the file,
// built-in defaults. Keys are flag names: {"addr": "0.0.0.0:7890",
// "gc-interval": "30m", "local-roots": "/srv/a,/srv/b"}.
func applyConfigFile(fs *flag.FlagSet, args []string) error {
	path := os.Getenv("JCSGW_CONFIG")
	for i, a := range args {
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "config" || !strings.HasPrefix(a, "-") {
			continue
		}
		if hasVal {
			path = val
		} else if i+1 < len(args) {
			path = args[i+1]
		}
	}
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var values map[string]any
	if err := json.Unmarshal(b, &values); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	for name, v := range values {
		f := fs.Lookup(name)
		if f == nil || name == "config" {
			return fmt.Errorf("config file %s: %q is not a setting of this command", path, name)
		}
		if _, set := os.LookupEnv(envName(name)); set {
			continue // the environment overrides the file
		}
		s := fmt.Sprint(v)
		if list, ok := v.([]any); ok {
			parts := make([]string, len(list))
			for i, x := range list {
				parts[i] = fmt.Sprint(x)
			}
			s = strings.Join(parts, ",")
		}
		if err := f.Value.Set(s); err != nil {
			return fmt.Errorf("config file %s: %s: %w", path, name, err)
		}
		f.DefValue = s
	}
	return nil
}

// envName is the environment variable of a flag: --gc-age → JCSGW_GC_AGE.
func envName(flagName string) string {
	return "JCSGW_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}
