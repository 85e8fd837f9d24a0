// deploycheck: offline checks of the docker files that need the real Docker/Compose libraries.
//
//	deploycheck compose FILE [FILE…]    load + merge + interpolate + validate with compose-go (the
//	                                    loader `docker compose config` uses); prints the resolved
//	                                    project as JSON on stdout
//	deploycheck context DIR DOCKERFILE… list what .dockerignore lets into the build context and
//	                                    check that every COPY/ADD source of each Dockerfile is in it
//	deploycheck promql DASHBOARD.json   parse every PromQL expression of a Grafana dashboard with
//	                                    Prometheus' own parser; prints the metric names it selects
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/prometheus/prometheus/promql/parser"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: deploycheck compose FILE… | deploycheck context DIR DOCKERFILE… | deploycheck promql DASHBOARD.json")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "compose":
		err = composeCheck(os.Args[2:])
	case "promql":
		err = promqlCheck(os.Args[2])
	case "context":
		if len(os.Args) < 4 {
			err = fmt.Errorf("context needs DIR and at least one DOCKERFILE")
		} else {
			err = contextCheck(os.Args[2], os.Args[3:])
		}
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploycheck:", err)
		os.Exit(1)
	}
}

func composeCheck(files []string) error {
	opts, err := cli.NewProjectOptions(files,
		cli.WithWorkingDirectory(filepath.Dir(files[0])),
		cli.WithOsEnv,
		cli.WithDotEnv,
		cli.WithName("news-entity-enricher"),
		cli.WithProfiles([]string{"*"}),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		return err
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(project, "", "  ")
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(append(out, '\n'))
	return err
}

var instr = regexp.MustCompile(`(?i)^\s*(COPY|ADD)\s+(.*)$`)

// contextCheck mimics the Docker CLI: .dockerignore patterns (ignorefile.ReadAll +
// patternmatcher) decide which files are sent; a COPY source outside them fails the build.
func contextCheck(dir string, dockerfiles []string) error {
	var patterns []string
	if f, err := os.Open(filepath.Join(dir, ".dockerignore")); err == nil {
		patterns, err = ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return err
	}
	included := map[string]bool{}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == "." {
			return nil
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules" || d.Name() == ".svc" || d.Name() == ".cache") {
			return filepath.SkipDir // never in the context by the patterns above; skipped for speed
		}
		skip, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		if !skip && !d.IsDir() {
			included[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	problems := 0
	for _, df := range dockerfiles {
		text, err := os.ReadFile(df)
		if err != nil {
			return err
		}
		// Join continuation lines, then look at COPY/ADD without --from (those read the context).
		joined := strings.ReplaceAll(string(text), "\\\n", " ")
		for _, line := range strings.Split(joined, "\n") {
			m := instr.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			var args []string
			fromStage := false
			for _, a := range strings.Fields(m[2]) {
				if strings.HasPrefix(a, "--from=") {
					fromStage = true
				}
				if !strings.HasPrefix(a, "--") {
					args = append(args, a)
				}
			}
			if fromStage || len(args) < 2 {
				continue
			}
			for _, src := range args[:len(args)-1] {
				src = strings.TrimSuffix(strings.TrimPrefix(src, "./"), "/")
				found := false
				for f := range included {
					if f == src || strings.HasPrefix(f, src+"/") {
						found = true
						break
					}
				}
				if !found {
					fmt.Fprintf(os.Stderr, "%s: %s %s: not in the build context (missing, or excluded by .dockerignore)\n", df, m[1], src)
					problems++
				}
			}
		}
	}
	files := make([]string, 0, len(included))
	for f := range included {
		files = append(files, f)
	}
	fmt.Printf("%d files in the build context\n", len(files))
	if problems > 0 {
		return fmt.Errorf("%d COPY/ADD source(s) not in the build context", problems)
	}
	return nil
}

// grafanaVars stands in for Grafana's template variables so expressions parse as Prometheus sees them.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h", "${__rate_interval}", "5m")
var userVar = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)

func promqlCheck(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var dash struct {
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	type panel struct {
		Title   string            `json:"title"`
		Panels  []json.RawMessage `json:"panels"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	}
	names := map[string]bool{}
	exprs, problems := 0, 0
	var walk func([]json.RawMessage) error
	walk = func(list []json.RawMessage) error {
		for _, r := range list {
			var pn panel
			if err := json.Unmarshal(r, &pn); err != nil {
				return err
			}
			for _, t := range pn.Targets {
				exprs++
				text := userVar.ReplaceAllString(grafanaVars.Replace(t.Expr), ".*")
				e, err := parser.ParseExpr(text)
				if err != nil {
					fmt.Fprintf(os.Stderr, "%s: panel %q: %v\n  %s\n", path, pn.Title, err, t.Expr)
					problems++
					continue
				}
				parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
					if vs, ok := n.(*parser.VectorSelector); ok && vs.Name != "" {
						names[vs.Name] = true
					}
					return nil
				})
			}
			if err := walk(pn.Panels); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(dash.Panels); err != nil {
		return err
	}
	if problems > 0 {
		return fmt.Errorf("%d of %d expressions do not parse", problems, exprs)
	}
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	sort.Strings(list)
	out, _ := json.Marshal(map[string]any{"expressions": exprs, "metrics": list})
	fmt.Println(string(out))
	return nil
}
