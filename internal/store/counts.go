package store

import (
	"context"
	"fmt"

	"github.com/weir-dev/weir/internal/run"
)

// CountRunsByPhase counts runs per phase.
func (s *Store) CountRunsByPhase(ctx context.Context) (map[run.Phase]int, error) {
	return s.countByPhase(ctx, "runs")
}

// CountTaskRunsByPhase counts task runs per phase.
func (s *Store) CountTaskRunsByPhase(ctx context.Context) (map[run.Phase]int, error) {
	return s.countByPhase(ctx, "task_runs")
}

func (s *Store) countByPhase(ctx context.Context, table string) (map[run.Phase]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT phase, COUNT(*) FROM `+table+` GROUP BY phase`)
	if err != nil {
		return nil, fmt.Errorf("count %s: %w", table, err)
	}
	defer rows.Close()
	out := map[run.Phase]int{}
	for rows.Next() {
		var ph string
		var n int
		if err := rows.Scan(&ph, &n); err != nil {
			return nil, fmt.Errorf("count %s: %w", table, err)
		}
		out[run.Phase(ph)] = n
	}
	return out, rows.Err()
}
