"""The AI participant: language, intents, flows, knowledge, handoff."""
