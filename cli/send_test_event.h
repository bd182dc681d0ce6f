// webhooks-server send-test-event: signs a Slack-style event the way Slack
// does and posts it to a webhook_url, so the whole ingress path can be tried
// without a Slack app.

#ifndef WEBHOOKS_CLI_SEND_TEST_EVENT_H_
#define WEBHOOKS_CLI_SEND_TEST_EVENT_H_

namespace webhooks {

// argv[0] is "send-test-event". Prints the status and body it got back;
// returns 0 on a 2xx, 1 otherwise, 2 on a usage error.
int SendTestEvent(int argc, char** argv);

}  // namespace webhooks

#endif  // WEBHOOKS_CLI_SEND_TEST_EVENT_H_
