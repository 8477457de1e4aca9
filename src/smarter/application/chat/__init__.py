"""Chat: the hot path of client hosts and the sandbox.

`answer_chat.AnswerChat` is what a client host's chat routes call: it finds the client behind
the host (`hosts`), lets the caller in (`access`), reads the request (`formats`) and has it
answered (`answering`): the conversation is built (`conversation`), the model asked with the
client's functions as tools (`tool_rounds`, one loop for whole and streamed answers), and the
turn recorded (`recording`). `sandbox` is the owner's twin before deployment.
"""
