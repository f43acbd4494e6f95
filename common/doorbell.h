/*
 * doorbell.h - the doorbell: the bus message that wakes a bot's lane in senderd. Its
 * one encoder and parser; gatewayd, webhookd and billingd ring, senderd listens.
 *
 * A doorbell is topic "bot.<id>" and the JSON object {"bot_id":<id>} with
 * "changed":true added when the bot's settings changed (senderd rereads them). It
 * carries no data: a lost doorbell costs latency, since senderd sweeps anyway.
 */
#ifndef TGM_DOORBELL_H
#define TGM_DOORBELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tgm_bus;

/* TGM_DOORBELL_PREFIX - the topic prefix a SUB socket subscribes to for every doorbell */
#define TGM_DOORBELL_PREFIX "bot."
/* TGM_DOORBELL_TOPIC_MAX, TGM_DOORBELL_JSON_MAX - buffer sizes that fit any doorbell */
#define TGM_DOORBELL_TOPIC_MAX 32
#define TGM_DOORBELL_JSON_MAX 64

/* tgm_doorbell - what a doorbell says */
struct tgm_doorbell {
	int64_t bot_id; /* > 0 */
	bool changed;   /* the bot's settings changed */
};

/*
 * tgm_doorbell_encode - d's topic and JSON into buffers of at least
 * TGM_DOORBELL_TOPIC_MAX and TGM_DOORBELL_JSON_MAX bytes; the JSON's length.
 */
size_t tgm_doorbell_encode(const struct tgm_doorbell *d, char *topic, char *json);
/*
 * tgm_doorbell_parse - a received message to what it says; false when it is no
 * doorbell (another topic, an id that is no positive integer, or a JSON object
 * whose bot_id names another bot). A JSON that says nothing more means changed=false.
 */
bool tgm_doorbell_parse(const char *topic, const char *json, size_t len, struct tgm_doorbell *out);
/* tgm_doorbell_ring - publish the doorbell of bot_id on b (a PUB); nothing for bot_id <= 0 */
void tgm_doorbell_ring(struct tgm_bus *b, int64_t bot_id, bool changed);

#endif
