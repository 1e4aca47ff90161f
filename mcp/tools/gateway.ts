// gateway_status: is the gateway healthy.
import { methodTool } from '../tool.js';

export const gatewayTools = [
  methodTool('gateway.status', {
    name: 'gateway_status',
    title: 'Gateway status',
    description:
      'Health of the Switchyard gateway: version, uptime, whether Temporal is reachable and a worker is polling (`ready`), and its open API connections. Use it when another gateway tool fails, to tell "the gateway is down" from "my request was wrong".',
    readOnly: true,
  }),
];
