package pyenv

import (
	"context"
	"os"
)

// Wrap adapts a step's command line: a KFP lightweight Python component
// runs its real command inside the cached environment its install prelude
// asks for, and pays for pip only the first time. Any other command is
// returned unchanged.
func (m *Manager) Wrap(ctx context.Context, argv []string) ([]string, []string, error) {
	req, rest, ok := ParseCommand(argv)
	if !ok {
		return argv, nil, nil
	}
	env, err := m.Ensure(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	return rest, env.Environ(os.Environ()), nil
}
