package spec

import (
	"encoding/json"
	"sort"
	"strconv"
	"time"
)

// kubernetesExecutor is the part of a Kubernetes platform spec weir applies
// on one machine; every other setting is reported as not applied.
type platformDoc struct {
	Platforms struct {
		Kubernetes struct {
			DeploymentSpec struct {
				Executors map[string]map[string]json.RawMessage `json:"executors"`
			} `json:"deploymentSpec"`
		} `json:"kubernetes"`
	} `json:"platforms"`
}

// ExecutorTimeout returns the per-task timeout set with
// kfp.kubernetes.set_timeout (activeDeadlineSeconds in the platform spec)
// for an executor, or 0.
func (p *Pipeline) ExecutorTimeout(label string) time.Duration {
	if len(p.Platforms) == 0 {
		return 0
	}
	var doc platformDoc
	if json.Unmarshal(p.Platforms, &doc) != nil {
		return 0
	}
	raw, ok := doc.Platforms.Kubernetes.DeploymentSpec.Executors[label]["activeDeadlineSeconds"]
	if !ok {
		return 0
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	var secs float64
	switch x := v.(type) {
	case float64:
		secs = x
	case string:
		secs, _ = strconv.ParseFloat(x, 64)
	}
	if secs <= 0 {
		return 0
	}
	return time.Duration(secs * float64(time.Second))
}

// platformWarnings names every platform setting the local executor does not
// apply.
func platformWarnings(file string, plat []byte) []Warning {
	var generic map[string]any
	if json.Unmarshal(plat, &generic) != nil {
		return []Warning{{File: file, Path: "platforms", Msg: "platform spec is not a mapping; ignored"}}
	}
	var doc platformDoc
	_ = json.Unmarshal(plat, &doc)
	var out []Warning
	execs := doc.Platforms.Kubernetes.DeploymentSpec.Executors
	for _, label := range sortedKeys(execs) {
		keys := make([]string, 0, len(execs[label]))
		for k := range execs[label] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "activeDeadlineSeconds" {
				continue
			}
			out = append(out, Warning{File: file, Path: join("platforms.kubernetes.deploymentSpec.executors", label, k),
				Msg: "Kubernetes setting not applied when running on this machine"})
		}
	}
	plats, _ := generic["platforms"].(map[string]any)
	for _, name := range sortedKeys(plats) {
		if name != "kubernetes" {
			out = append(out, Warning{File: file, Path: join("platforms", name), Msg: "platform not supported; ignored"})
		}
	}
	if k8s, ok := plats["kubernetes"].(map[string]any); ok {
		for _, key := range sortedKeys(k8s) {
			if key != "deploymentSpec" {
				out = append(out, Warning{File: file, Path: join("platforms.kubernetes", key), Msg: "Kubernetes setting not applied when running on this machine"})
			}
		}
	}
	return out
}
