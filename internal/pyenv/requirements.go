package pyenv

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// manifestFormat versions the manifest layout. Bumping it gives every
// requirement set a new key, so environments built under an older layout
// are never mistaken for current ones.
const manifestFormat = 1

// Install is one `pip install` invocation: the requirements pip resolves
// together and the options that apply to them.
type Install struct {
	// Packages are requirement specifiers exactly as pip receives them
	// ("numpy", "kfp==2.17.3", "pkg; python_version<\"3.9\"", a URL, ...).
	Packages []string `json:"packages"`
	// NoDeps installs Packages without their dependencies (pip --no-deps).
	// kfp puts it on its own kfp==<version> install: the kfp runtime needs
	// none of kfp's compile-time dependencies.
	NoDeps bool `json:"no_deps,omitempty"`
	// IndexURL replaces the default package index (pip --index-url).
	IndexURL string `json:"index_url,omitempty"`
	// ExtraIndexURLs are additional indexes (pip --extra-index-url).
	ExtraIndexURLs []string `json:"extra_index_urls,omitempty"`
	// TrustedHosts are hosts reached without a valid certificate (pip
	// --trusted-host). kfp passes whole index URLs here when a component
	// sets pip_index_urls without pip_trusted_hosts; they are kept as is.
	TrustedHosts []string `json:"trusted_hosts,omitempty"`
}

// Requirements is what an environment must hold: the installs of a KFP
// prelude, applied in order to a fresh virtual environment.
//
// Order is significant and preserved: installs run one after the other
// (a later one may replace what an earlier one put in place) and, inside
// one install, the packages keep the order the component listed them in.
// pip resolves the packages of one install together, but its backtracking
// may still pick different versions for a different order, so two
// components listing the same packages in another order get separate
// environments rather than a possibly different one than they asked for.
type Requirements struct {
	Installs []Install
	// UseVenv records that the component asked for use_venv=True. Every
	// environment is a virtual environment already, so it does not change
	// what gets built and is not part of the key.
	UseVenv bool
}

// Packages returns every requirement specifier of every install, in order.
func (r Requirements) Packages() []string {
	var out []string
	for _, in := range r.Installs {
		out = append(out, in.Packages...)
	}
	return out
}

// String renders the requirements as the pip arguments of each install,
// installs separated by " && ", for messages and logs.
func (r Requirements) String() string {
	parts := make([]string, 0, len(r.Installs))
	for _, in := range r.Installs {
		parts = append(parts, in.String())
	}
	return strings.Join(parts, " && ")
}

// String renders one install as pip arguments.
func (in Install) String() string {
	var words []string
	if in.IndexURL != "" {
		words = append(words, "--index-url", shellQuote(in.IndexURL))
	}
	for _, u := range in.ExtraIndexURLs {
		words = append(words, "--extra-index-url", shellQuote(u))
	}
	for _, h := range in.TrustedHosts {
		words = append(words, "--trusted-host", shellQuote(h))
	}
	if in.NoDeps {
		words = append(words, "--no-deps")
	}
	for _, p := range in.Packages {
		words = append(words, shellQuote(p))
	}
	return strings.Join(words, " ")
}

// Validate reports requirements that cannot be installed as given: no
// install, an install without packages, or a value pip would take for an
// option.
func (r Requirements) Validate() error {
	if len(r.Installs) == 0 {
		return errors.New("no install")
	}
	for i, in := range r.Installs {
		if len(in.Packages) == 0 {
			return fmt.Errorf("install %d has no packages", i+1)
		}
		values := slices.Concat(in.Packages, in.ExtraIndexURLs, in.TrustedHosts)
		if in.IndexURL != "" {
			values = append(values, in.IndexURL)
		}
		for _, v := range values {
			v = strings.TrimSpace(v)
			if v == "" || strings.HasPrefix(v, "-") || strings.ContainsAny(v, "\x00\n\r") {
				return fmt.Errorf("install %d: invalid value %q", i+1, v)
			}
		}
	}
	return nil
}

// manifest is the canonical description of an environment. Its JSON
// encoding is hashed into the key and written as the completion marker.
type manifest struct {
	Format      int       `json:"format"`
	Interpreter string    `json:"interpreter"`
	Installs    []Install `json:"installs"`
}

// normalized returns a copy with surrounding blanks trimmed from every
// value and empty lists dropped; everything else, order included, stays as
// given. Environments are built from, and keyed by, this form.
func (r Requirements) normalized() Requirements {
	trim := func(ss []string) []string {
		if len(ss) == 0 {
			return nil
		}
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = strings.TrimSpace(s)
		}
		return out
	}
	out := Requirements{UseVenv: r.UseVenv, Installs: make([]Install, 0, len(r.Installs))}
	for _, in := range r.Installs {
		out.Installs = append(out.Installs, Install{
			Packages:       trim(in.Packages),
			NoDeps:         in.NoDeps,
			IndexURL:       strings.TrimSpace(in.IndexURL),
			ExtraIndexURLs: trim(in.ExtraIndexURLs),
			TrustedHosts:   trim(in.TrustedHosts),
		})
	}
	return out
}

// manifest returns the canonical encoding of the normalized requirements
// for the interpreter identified by interpreterID.
func (r Requirements) manifest(interpreterID string) []byte {
	m := manifest{Format: manifestFormat, Interpreter: interpreterID, Installs: r.normalized().Installs}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(m); err != nil {
		panic(fmt.Sprintf("pyenv: encoding manifest: %v", err)) // only strings, bools and ints
	}
	return buf.Bytes()
}

// Key names the environment that satisfies r on the interpreter
// identified by interpreterID (see Manager.InterpreterID): the first 128
// bits, in hex, of the SHA-256 of the canonical manifest, which covers the
// interpreter identity, every install's packages in order, its --no-deps
// flag and its index URLs and trusted hosts. UseVenv is not part of it.
// The key is stable across processes and releases of this package as long
// as the manifest format does not change.
func (r Requirements) Key(interpreterID string) string {
	sum := sha256.Sum256(r.manifest(interpreterID))
	return hex.EncodeToString(sum[:16])
}
