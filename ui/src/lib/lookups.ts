// Names of pipelines and experiments by id, fetched once per page view.

import { listExperiments, listPipelines } from '../api/endpoints';
import { useAsync } from './useAsync';

export function useNames() {
  const pipelines = useAsync(async (s) => {
    const r = await listPipelines({ page_size: 1000 }, s);
    return new Map((r.pipelines ?? []).map((p) => [p.pipeline_id, p.display_name || p.name]));
  }, []);
  const experiments = useAsync(async (s) => {
    const r = await listExperiments({ page_size: 1000 }, s);
    return new Map((r.experiments ?? []).map((e) => [e.experiment_id, e.display_name]));
  }, []);
  return { pipelines: pipelines.data, experiments: experiments.data };
}
