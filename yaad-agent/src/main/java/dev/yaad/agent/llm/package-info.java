/** LLM access: OpenAI-compatible chat through LangChain4j, with timeouts, retries and cancellation; Yaad's prompts. */
package dev.yaad.agent.llm;
