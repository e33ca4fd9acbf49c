// The entry: small on purpose. It starts the slow request of the page
// being opened (prefetch.ts), then loads the application, so that the
// server works while the browser loads and starts React and the graph
// libraries.
import { prefetch } from './prefetch';

prefetch(window.location.pathname);
void import('./boot');
