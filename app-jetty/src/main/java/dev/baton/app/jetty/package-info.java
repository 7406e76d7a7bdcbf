/** Null-checked: nothing here is null unless marked {@code @Nullable}. */
@NullMarked
package dev.baton.app.jetty;

import org.jspecify.annotations.NullMarked;
