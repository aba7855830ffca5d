// A stand-in for the Azure DevOps build results page: it frames the tab and answers the SDK's
// cross-frame (XDM) calls the way the host does: the initial handshake (with the theme), the page
// services the tab asks for (project, build, location of the Build REST area) and access tokens.
// The Build REST API itself is served by the test's HTTP server under /tfs/.
// Query: ?theme=light|dark (host theme), ?build=<id>.
// The package exports only its entry point; the host side needs XDM itself.
import { channelManager } from '../../../node_modules/azure-devops-extension-sdk/esm/XDM.js';

const params = new URLSearchParams(location.search);
const THEMES = {
  light: { 'background-color': 'rgba(248, 248, 248, 1)', 'text-primary-color': 'rgba(0, 0, 0, .9)', 'text-secondary-color': 'rgba(0, 0, 0, .55)' },
  dark: { 'background-color': 'rgba(32, 31, 30, 1)', 'text-primary-color': 'rgba(255, 255, 255, .87)', 'text-secondary-color': 'rgba(255, 255, 255, .55)' },
};
const PROJECT = { id: '6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c', name: 'churn' };
const buildId = Number(params.get('build') ?? '4321');

window.__host = { loaded: 0, failed: [], tokens: 0, services: [] };

const iframe = document.createElement('iframe');
iframe.src = '/results-tab.html';
iframe.style.cssText = 'border:0;width:100%;height:100vh;display:block';
document.body.appendChild(iframe);

const channel = channelManager.addChannel(iframe.contentWindow, location.origin);
channel.getObjectRegistry().register('DevOps.HostControl', {
  initialHandshake() {
    return {
      contributionId: 'mlops-pipelines.databricks-mlops.eval-results-tab',
      context: {
        extension: { publisherId: 'mlops-pipelines', extensionId: 'databricks-mlops', id: 'mlops-pipelines.databricks-mlops', version: '1.0.0' },
        user: { id: 'u1', name: 'Test User', displayName: 'Test User', descriptor: 'd', imageUrl: '' },
        host: { id: 'h1', name: 'contoso', serviceVersion: 'test', type: 4 },
        pageContext: { webContext: { project: PROJECT, team: { id: 't', name: 'churn Team' } }, globalization: {} },
      },
      initialConfig: {},
      themeData: THEMES[params.get('theme') ?? 'light'],
    };
  },
  notifyLoadSucceeded() {
    window.__host.loaded++;
  },
  notifyLoadFailed(e) {
    window.__host.failed.push(String(e));
  },
  getAccessToken() {
    window.__host.tokens++;
    return { token: 'fake-access-token' };
  },
  resize() {},
});
channel.getObjectRegistry().register('DevOps.ServiceManager', {
  getService(id) {
    window.__host.services.push(id);
    switch (id) {
      case 'ms.vss-tfs-web.tfs-page-data-service':
        return { getProject: () => PROJECT };
      case 'ms.vss-build-web.build-page-data-service':
        return { getBuildPageData: () => ({ build: { id: buildId, buildNumber: '20251126.4', project: PROJECT } }) };
      case 'ms.vss-features.location-service':
        return { getResourceAreaLocation: () => `${location.origin}/tfs/`, getServiceLocation: () => `${location.origin}/tfs/` };
      default:
        throw new Error(`fake host: no service ${id}`);
    }
  },
});
