/* lbvm's event channel (vmm/guest_events.c): the line protocol and its reader, fed bytes the way a guest's
 * tty sends them (CR LF), with the malformed, overlong and binary lines an untrusted guest can send. */
#include "check_run.h"
#include <check.h>
#include <string.h>

#include "vmm/guest_events.h"

/* Feed text; returns how many events came out, the last in *ev. */
static int feed(struct guest_event_reader *r, const char *text, size_t len, struct guest_event *ev)
{
	int n = 0;
	for (size_t i = 0; i < len; i++)
		if (guest_event_feed(r, (uint8_t)text[i], ev))
			n++;
	return n;
}

static struct guest_event one(const char *text)
{
	struct guest_event_reader r;
	guest_event_reader_init(&r);
	struct guest_event ev;
	memset(&ev, 0, sizeof(ev));
	ck_assert_int_eq(feed(&r, text, strlen(text), &ev), 1);
	return ev;
}

START_TEST(valid_events)
{
	struct guest_event ev = one("mark switch_root into sysc\r\n");
	ck_assert_int_eq(ev.kind, GUEST_EVENT_MARK);
	ck_assert_str_eq(ev.text, "switch_root into sysc");
	ev = one("step-begin gcc-4.0.4_pass2\n");
	ck_assert_int_eq(ev.kind, GUEST_EVENT_STEP_BEGIN);
	ck_assert_str_eq(ev.text, "gcc-4.0.4_pass2");
	ev = one("step-end mes-0.23 0\r\n");
	ck_assert_int_eq(ev.kind, GUEST_EVENT_STEP_END);
	ck_assert_str_eq(ev.text, "mes-0.23");
	ck_assert_int_eq(ev.status, 0);
	ev = one("step-end x+y 255\n");
	ck_assert_int_eq(ev.kind, GUEST_EVENT_STEP_END);
	ck_assert_int_eq(ev.status, 255);
	char buf[400];
	guest_event_format(&ev, buf, sizeof(buf));
	ck_assert_str_eq(buf, "step-end x+y 255");
}
END_TEST

START_TEST(invalid_events)
{
	static const struct {
		const char *line;
		const char *why;
	} cases[] = {
		{ "hello\n", "unknown event (mark, step-begin, step-end)" },
		{ "mark\n", "unknown event (mark, step-begin, step-end)" },
		{ "mark \n", "mark needs a text of 1..200 characters" },
		{ "step-begin\n", "unknown event (mark, step-begin, step-end)" },
		{ "step-begin a b\n", "step-begin takes one name" },
		{ "step-begin a/b\n", "step-begin takes one name" },
		{ "step-begin /etc\n", "a step name is 1..64 of [A-Za-z0-9._+-]" },
		{ "step-end a\n", "step-end needs NAME STATUS" },
		{ "step-end a \n", "step-end needs NAME STATUS" },
		{ "step-end a 256\n", "a status is a number 0..255" },
		{ "step-end a 0001\n", "a status is a number 0..255" },
		{ "step-end a -1\n", "a status is a number 0..255" },
		{ "step-end a 1 2\n", "a status is a number 0..255" },
		{ "Mark x\n", "unknown event (mark, step-begin, step-end)" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct guest_event ev = one(cases[i].line);
		ck_assert_msg(ev.kind == GUEST_EVENT_INVALID, "'%s' accepted", cases[i].line);
		ck_assert_str_eq(ev.why, cases[i].why);
	}
	/* a name of 65 characters, a mark of 201 */
	char line[300];
	memset(line, 0, sizeof(line));
	strcpy(line, "step-begin ");
	memset(line + strlen(line), 'n', 65);
	strcat(line, "\n");
	ck_assert_int_eq(one(line).kind, GUEST_EVENT_INVALID);
	memset(line, 0, sizeof(line));
	strcpy(line, "mark ");
	memset(line + 5, 't', 201);
	strcat(line, "\n");
	ck_assert_int_eq(one(line).kind, GUEST_EVENT_INVALID);
	line[5 + 200] = '\n';
	line[5 + 201] = '\0';
	ck_assert_int_eq(one(line).kind, GUEST_EVENT_MARK);
}
END_TEST

START_TEST(untrusted_bytes)
{
	struct guest_event_reader r;
	guest_event_reader_init(&r);
	struct guest_event ev;
	/* a NUL, an escape and a high byte: recorded as invalid, shown as '?' */
	static const char binary[] = "mark a\0b\x1b[2Jc\xff\n";
	ck_assert_int_eq(feed(&r, binary, sizeof(binary) - 1, &ev), 1);
	ck_assert_int_eq(ev.kind, GUEST_EVENT_INVALID);
	ck_assert_str_eq(ev.why, "a byte that is not printable ASCII");
	ck_assert_str_eq(ev.text, "mark a?b?[2Jc?");
	/* 10,000 bytes without a line end: one invalid event, cut at the limit, then the reader goes on */
	static char flood[10000];
	memset(flood, 'x', sizeof(flood));
	ck_assert_int_eq(feed(&r, flood, sizeof(flood), &ev), 0);
	ck_assert_int_eq(feed(&r, "\n", 1, &ev), 1);
	ck_assert_int_eq(ev.kind, GUEST_EVENT_INVALID);
	ck_assert_str_eq(ev.why, "the line is longer than 256 bytes");
	ck_assert_uint_eq(strlen(ev.text), GUEST_EVENT_LINE_MAX);
	ck_assert_int_eq(feed(&r, "mark ok\n", 8, &ev), 1);
	ck_assert_int_eq(ev.kind, GUEST_EVENT_MARK);
	/* empty lines and bare CRs are nothing */
	ck_assert_int_eq(feed(&r, "\r\n\n\r\r\n", 6, &ev), 0);
	/* a line of exactly 256 bytes is not overlong */
	char exact[GUEST_EVENT_LINE_MAX + 2];
	memset(exact, 'y', GUEST_EVENT_LINE_MAX);
	memcpy(exact, "mark ", 5);
	exact[GUEST_EVENT_LINE_MAX] = '\n';
	ck_assert_int_eq(feed(&r, exact, GUEST_EVENT_LINE_MAX + 1, &ev), 1);
	ck_assert_str_eq(ev.why, "mark needs a text of 1..200 characters"); /* 251 characters */
	char buf[GUEST_EVENT_LINE_MAX + 100];
	guest_event_format(&ev, buf, sizeof(buf));
	ck_assert(!strncmp(buf, "invalid (mark needs", 19));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("guest-events");
	TCase *tc = tcase_create("protocol");
	tcase_add_test(tc, valid_events);
	tcase_add_test(tc, invalid_events);
	tcase_add_test(tc, untrusted_bytes);
	suite_add_tcase(s, tc);
	return check_run(s);
}
